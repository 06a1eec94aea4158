"""Self-contained HTML reports of run folders (`recagora report RUN --html`)."""
