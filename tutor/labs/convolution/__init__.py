"""The convolution lab: kernels on images, sliding windows, banks, stacks, pooling, LeNet-5."""
