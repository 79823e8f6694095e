"""BotStrategy subclasses, one file each; ``STRATEGIES`` maps the ``--strategy`` name to the class."""
