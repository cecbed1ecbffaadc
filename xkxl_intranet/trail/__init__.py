"""The audit trail as people read it (the ``audit`` blueprint): every event's object named and
linked, its changes in words. It reads every package's models, so it sits above them all; the
recorder itself is ``audit/``."""
