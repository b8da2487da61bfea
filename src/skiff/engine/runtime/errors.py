"""Runtime failures the containers layer maps to Docker's run errors."""

from skiff.common.errors import SystemError_


class ExecFailed(SystemError_):
    """The container's command could not be executed.

    message is runc's wording ('exec: "foo": executable file not found in $PATH');
    exit_code is what `docker run` exits with for it: 127 (not found) or 126 (not runnable).
    """

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code
