"""A small progress bar: redrawn in place on a terminal, one line per epoch in a log file or CI."""

import sys
import time


class Progress:
    def __init__(self, total, label, stream=None):
        self.total, self.label = total, label
        self.stream = stream or sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.done = 0
        self.last_draw = 0.0

    def update(self, n, **stats):
        """``n`` more examples done; ``stats`` (loss=…, acc=…) are shown next to the bar."""
        self.done += n
        if self.tty and (time.perf_counter() - self.last_draw > 0.1 or self.done >= self.total):
            self.last_draw = time.perf_counter()
            self.stream.write("\r" + self.line(**stats))
            self.stream.flush()

    def line(self, **stats):
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        frac = self.done / max(self.total, 1)
        bar = "#" * int(20 * frac) + "." * (20 - int(20 * frac))
        extra = " ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in stats.items())
        return f"{self.label} [{bar}] {self.done}/{self.total} {extra} {rate:.1f} samples/s ETA {eta:.0f}s"

    def close(self, **stats):
        """Finish the bar; off a terminal this is the only line written."""
        text = self.line(**stats)
        self.stream.write(("\r" + text + "\n") if self.tty else (text + "\n"))
        self.stream.flush()
