"""The normalization lab: batch, layer and instance norm on a small N x C x H x W batch."""
