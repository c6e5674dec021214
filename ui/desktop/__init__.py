"""Linux desktop integration over the D-Bus session bus (QtDBus).

- :mod:`ui.desktop.mpris`: media controls (``org.mpris.MediaPlayer2.edgeplay``) driven by the
  :class:`ui.playback.PlayerController`.
- :mod:`ui.desktop.inhibit`: keeps the screen awake while a title plays.
- :mod:`ui.desktop.notify`: a desktop notification (downloads use it when one finishes).
- :mod:`ui.desktop.integration`: what the app creates next to the player controller.

Without a session bus (macOS, Windows, a bare container) every part logs one info line and does
nothing. Nothing here touches the bus at import.
"""
