"""The debtor's name and postal address for letters, from the CPR register (citizens) and the
CVR register (companies): the interface (``lookup``), the registers over HTTP (``registers``),
an in-memory fake for tests and the demo (``fake``), and the choice between them by setting
(``configured``). See decision 0013."""
