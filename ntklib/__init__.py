"""ntklib: the helper package of the ntk-notebooks."""
