"""The frozen bundle's entry point (PyInstaller runs this as ``__main__``).

A bundle has no ``python -m``, so the one executable plays every role the source tree gives to
``python -m …``; the first argument picks it:

* ``edgeplay --controlplane-subprocess ARGS…`` is ``python -m controlplane ARGS…`` (what
  :class:`player.bundled.BundledControlPlane` starts when ``sys.frozen`` is set);
* ``edgeplay --self-check-probe KIND`` is ``python -m ui.selfcheck --self-check-probe KIND`` (the
  isolated OpenGL / libmpv probes of ``edgeplay --self-check``);
* anything else is the ``edgeplay`` command (``ui.cli:main``).

The ``ui`` package never imports ``controlplane`` (docs/packaging.md); only this file knows both.
"""

from __future__ import annotations

import sys

CONTROLPLANE_FLAG = "--controlplane-subprocess"  # player.bundled.FROZEN_CONTROLPLANE_FLAG
PROBE_FLAG = "--self-check-probe"  # ui.selfcheck.PROBE_FLAG


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == [CONTROLPLANE_FLAG]:
        from controlplane.__main__ import main as controlplane_main

        return controlplane_main(argv[1:])
    if argv[:1] == [PROBE_FLAG]:
        from ui.selfcheck import probe_main

        return probe_main(argv[1:])
    from ui.cli import main as edgeplay_main

    return edgeplay_main(argv)


if __name__ == "__main__":
    sys.exit(main())
