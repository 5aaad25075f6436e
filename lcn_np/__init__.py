"""lcn_np: the Lightweight Capsule Network for speech emotion recognition, written by hand in NumPy/CuPy.

Read the package in the order data flows through it:
    backend     — NumPy or CuPy, chosen in one place
    signal      — the power spectrogram (STFT) and its gradient
    conv        — standard, depthwise and pointwise convolution
    pooling, activations, normalization, linear
    capsules    — squash, capsule predictions, dynamic routing, capsule lengths
    losses      — margin loss, softmax cross-entropy
    ops         — every forward/backward pair above, in one import
    gradcheck   — finite-difference gradient checks
"""

__version__ = "0.1.0"
