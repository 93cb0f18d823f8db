#!/usr/bin/python3
"""on-tty.py COMMAND [ARGS...]: runs COMMAND with a pseudo-terminal as its standard input, output
and error, copies what it wrote to our standard output and exits with its status. For tests of
what pscctl does only on a terminal (colour, progress lines)."""
import os
import pty
import sys

pid, fd = pty.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
out = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:  # EIO once the child has closed the terminal
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out.replace(b"\r\n", b"\n"))
sys.exit(os.waitstatus_to_exitcode(status))
