"""``--sandbox none``: process isolation only (trusted code)."""

from __future__ import annotations

from .base import Launch, Sandbox


class ProcessSandbox(Sandbox):
    """The worker runs as a plain child process: its own session and folder, the limits it sets
    on itself, the guard; strays are swept by the judge (a child subreaper)."""

    name = "none"
    label = "process"
    zygote_kind = "plain"

    @classmethod
    def problem(cls) -> str | None:
        return None

    def command(self, launch: Launch) -> list[str]:
        return self.python_command(launch)
