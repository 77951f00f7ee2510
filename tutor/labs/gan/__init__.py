"""The GAN lab (chapter 10): a generator and a discriminator on 2-D points, and the bilinear game."""
