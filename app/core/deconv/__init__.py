"""Classical deblurring maths: blind kernel estimation, parametric defocus PSFs, non-blind deconvolution.

Pure numpy/scipy (no Qt, no torch needed): ``kernel`` estimates a camera-shake kernel coarse to fine with
an L0 gradient prior, ``defocus`` builds disk/ring/Gaussian PSFs and estimates their radius from edges,
``nonblind`` deconvolves in linear light with a hyper-Laplacian prior, ``fftops`` holds the shared FFT,
padding and kernel helpers. The ops ``shake`` and ``defocus`` (app/core/ops/) are thin callers.
"""
