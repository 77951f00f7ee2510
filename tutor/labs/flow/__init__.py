"""The flow lab (chapter 11): the change of variables in 1-D, planar and coupling flows in 2-D."""
