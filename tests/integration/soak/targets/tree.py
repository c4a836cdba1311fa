"""Test target: a process tree with live children, an orphaned grandchild and two zombies.

Writes the pids of everything it started to argv[1] (JSON) once the tree is complete, then
idles. On SIGTERM it exits without reaping its zombie children.
"""

import json
import os
import signal
import subprocess
import sys
import time

out = sys.argv[1]
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

sleepers = [subprocess.Popen(["sleep", "600"]).pid for _ in range(3)]

# A child that starts a grandchild and exits: the grandchild is orphaned (reparented).
read_end, write_end = os.pipe()
middle = os.fork()
if middle == 0:
    os.close(read_end)
    grandchild = subprocess.Popen(["sleep", "600"])
    os.write(write_end, str(grandchild.pid).encode())
    os._exit(0)
os.close(write_end)
grandchild_pid = int(os.read(read_end, 64))
os.waitpid(middle, 0)

# Two children that exit at once and are never waited for: zombies under this process.
zombies = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    zombies.append(pid)

tmp = out + ".tmp"
with open(tmp, "w") as f:
    json.dump(
        {
            "target": os.getpid(),
            "sleepers": sleepers,
            "grandchild": grandchild_pid,
            "zombies": zombies,
        },
        f,
    )
os.replace(tmp, out)
while True:
    time.sleep(1)
