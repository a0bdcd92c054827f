import pytest


@pytest.fixture(scope="session")
def stack():
    """The real local stack (moto server, app server, event pump) on free ports."""
    from devstack.__main__ import Stack, free_port
    stack = Stack(free_port(), free_port(), env_extra={"POWERTOOLS_LOG_LEVEL": "INFO"}, quiet=True)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
