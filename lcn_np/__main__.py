"""``python -m lcn_np``: the commands this package offers, one line each."""

COMMANDS = [
    ("python -m lcn_np.train", "train a variant on the synthetic corpus or --data DIR; prints the Table 3 row"),
    ("python -m lcn_np.predict", "emotion of audio files from a checkpoint: --checkpoint best.npz a.wav …"),
    ("python -m lcn_np.bench", "speed: `ops` (per op) or `train` (per training step), beside PyTorch"),
    ("python -m lcn_np.grade", "grade an exercise: python -m lcn_np.grade walkthrough/exercises/squash_backward.py"),
    ("python -m lcn_np.data.synthetic", "write the built-in synthetic corpus as wav files to listen to"),
]


def main():
    print("lcn_np — the Lightweight Capsule Network, every gradient by hand. Commands:")
    for cmd, what in COMMANDS:
        print(f"  {cmd:34s} {what}")
    print("Each takes --help. The walkthrough starts at walkthrough/01-sound-as-numbers.md.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
