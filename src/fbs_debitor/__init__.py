"""fbs-debitor: the Danish library debtor integration, every actor in one package."""

__version__ = "0.1.0"
