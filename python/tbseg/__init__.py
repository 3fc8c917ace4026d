"""tbseg: TensorBoard logging from Python on tbseg's Rust writer.

- ``tbseg.SummaryWriter``: a drop-in for
  ``torch.utils.tensorboard.SummaryWriter`` (change the import, keep the
  calls); encoding runs off the Python thread with the GIL released.
- ``tbseg.read(logdir, kinds=..., tags=..., runs=...)``: the runs of a log
  directory as a pandas DataFrame, decoded in Rust.
"""

from ._native import __version__
from .reader import read
from .writer import SummaryWriter

__all__ = ["SummaryWriter", "read", "__version__"]
