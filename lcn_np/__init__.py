"""lcn_np: the Lightweight Capsule Network for speech emotion recognition, written by hand in NumPy/CuPy.

Three parts, read in the order data flows through them:
    data/       from files to arrays — audio, corpora, the synthetic corpus, spectrogram images,
                augmentation, splits
    ops/        the lesson — every hand-written forward/backward pair, one import: ``from lcn_np import ops``
    the rest    backend (NumPy or CuPy, chosen in one place), gradcheck, layers and model (mobilenet),
                optim, weights and checkpoint, metrics and progress; the commands train, predict, bench,
                grade (``python -m lcn_np`` lists them)
"""

__version__ = "0.2.0"
