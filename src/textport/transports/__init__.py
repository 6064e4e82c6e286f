"""SMS sources behind one interface: see base.py; ``sim`` is the built-in carrier."""
