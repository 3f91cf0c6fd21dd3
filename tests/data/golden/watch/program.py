# Golden fixture: a foreign program whose work per step grows (a list it scans).
import os, sys
history = []
fd = int(os.environ["NRMLAB_STEP_FD"]) if "NRMLAB_STEP_FD" in os.environ else None
for step in range(60):
    history.extend(range(2000))
    total = 0
    for _ in range(3):
        total += sum(history)
    marker = f"NRMLAB step={step} items={len(history)}\n"
    if fd is not None:
        os.write(fd, marker.encode())
    else:
        print(marker, end="", flush=True)
