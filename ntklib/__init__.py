"""ntklib: the helper package of the ntk-notebooks.

One module per idea of the lecture notes (data flows one way, top to bottom):

- `data`: the datasets of data/, verified against their checksums
- `features`: explicit polynomial features, classic kernels, kernel ridge (notebooks 01-02)
- `net`: the one-hidden-layer network in NTK parameterization (notebook 03)
- `train`, `linearize`: gradient descent on the network and on its Taylor model (03-04)
- `ntk`: empirical and infinite-width Neural Tangent Kernels (notebook 05)
- `dynamics`: gradient flow exp(-K t) U(0), discrete GD, test predictions (notebook 06)
- `exercises`: the exercises' self-checks
- `plots`, `widgets`: the figures' house style and the interactive panels; they import
  everything else and only notebooks import them: `from ntklib import plots, widgets`
"""

from . import data, dynamics, exercises, features, linearize, net, ntk, train

__version__ = "0.1.0"
__all__ = ["data", "dynamics", "exercises", "features", "linearize", "net", "ntk", "train"]
