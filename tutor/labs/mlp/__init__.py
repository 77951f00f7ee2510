"""The MLP lab: train a small network on 2-D points and watch its decision regions form."""
