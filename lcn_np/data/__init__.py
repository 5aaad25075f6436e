"""From files to arrays: reading audio, corpus layouts, the synthetic corpus, spectrogram images (with a
disk cache), augmentation and train/test splits. None of this is the lesson's maths — that is
:mod:`lcn_np.ops` — but every step is small and written out.

    audio      — read wav/flac/ogg, mono, resample (announced, never silent)
    corpora    — CASIA, EmoDB, RAVDESS or a folder per class → items (path, label, speaker, sentence)
    synthetic  — the built-in corpus of source–filter voices (``python -m lcn_np.data.synthetic``)
    features   — waveform → 3-channel spectrogram image, cached on disk
    augment    — time shift and SpecAugment masks on a batch of images
    splits     — stratified, speaker and K-fold splits; leakage report; the split's file list
"""
