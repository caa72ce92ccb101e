"""The shipped defaults: ``lexicon.toml`` (risk terms) and ``rules.toml`` (classification rules).

Plain TOML so that a reviewer can read and correct them without running code; they are loaded
once through :meth:`chatkeeper.classify.Lexicon.default` and
:meth:`chatkeeper.classify.Rules.default`. Deployments change them through configuration, not
by editing these files (docs/classification.md).
"""
