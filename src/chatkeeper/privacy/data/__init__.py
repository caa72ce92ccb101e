"""Tables shipped with the personal-data recognizers: divisions, surnames, area codes, card BINs.

Plain UTF-8 text so that a reviewer can read and correct them without running code; the
recognizers load them once through :mod:`chatkeeper.privacy.recognizers.tables`.
"""
