"""torch_threads: a count for one block, the caller's count after (also on an error)."""

import pytest
import torch

from recagora.item_space.threads import torch_threads


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_the_block_runs_with_the_count_and_the_caller_gets_theirs_back(one_thread):
    with torch_threads(2):
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == 1


def test_none_leaves_the_count_alone(one_thread):
    with torch_threads(None):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 1


def test_an_error_in_the_block_still_restores_the_count(one_thread):
    with pytest.raises(RuntimeError, match="inside"), torch_threads(2):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == 1
