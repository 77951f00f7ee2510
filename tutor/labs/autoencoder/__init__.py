"""The autoencoder lab: linear AE vs PCA, autoencoders, denoising and VAEs on the built-in digits (chapter 9)."""
