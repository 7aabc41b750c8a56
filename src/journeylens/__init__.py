"""journeylens: customer journey maps as code, bound to the events your company records.

The layers, from the bottom up (imports point downward only):
``model`` → ``formats`` / ``templates`` → ``events`` / ``engine`` → ``analytics`` →
``insights`` / ``render`` / ``store`` → ``web`` / ``cli``.
"""

__version__ = "0.1.0"
