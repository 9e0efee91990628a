"""Typed errors the trainer reports as one JSON line ({"event": "error", ...}) before exiting with status 2."""


class TrainInputError(Exception):
    """Bad input found before any compute: names the file, record or flag at fault."""

    def __init__(self, code: str, message: str, *, file: str | None = None, line: int | None = None,
                 record: str | None = None, flag: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.record = record
        self.flag = flag

    def to_json(self) -> dict:
        out = {"event": "error", "code": self.code, "message": self.message}
        for key in ("file", "line", "record", "flag"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out
