"""Runs a command on a new pseudo-terminal and bridges it to pipes, for test/setup/terminal.ts.

usage: python3 pty-bridge.py COLUMNS ROWS COMMAND [ARG...]

Bytes on our stdin are written to the terminal (keystrokes); what the program writes to the
terminal comes out on our stdout. The terminal has the given size, set in the child before the
program starts (so it never sees a 0x0 terminal). We exit with the program's status (128 + N
when it was killed by signal N). Only the Python standard library is used: no native addon.
"""
import errno
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios


def main():
    columns, rows = int(sys.argv[1]), int(sys.argv[2])
    argv = sys.argv[3:]
    pid, master = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, columns, 0, 0))
        os.execvp(argv[0], argv)

    # A TERM to us means the test is over (it failed or timed out): stop the program at once.
    # (A hangup is not enough: inquirer catches SIGHUP, and between two prompts it may be lost.)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
    stdin_open = True
    while True:
        watched = [master] + ([0] if stdin_open else [])
        try:
            ready, _, _ = select.select(watched, [], [])
        except InterruptedError:
            continue
        if 0 in ready:
            data = os.read(0, 4096)
            if data:
                os.write(master, data)
            else:
                stdin_open = False
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError as error:
                if error.errno != errno.EIO:
                    raise
                data = b''
            if not data:
                break
            os.write(1, data)

    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))


main()
