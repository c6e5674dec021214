"""Offline downloads: a resumable queue, media encrypted at rest, licenses that expire.

Qt-free. :class:`offline.library.OfflineLibrary` is the entry point: the SQLite journal, the
files, the device key and the license checks; :class:`offline.downloader.DownloadManager` fills
it from the edges; :func:`offline.playback.open_offline` plays a finished download through the
engine with no control plane and no edge. docs/offline.md has the whole picture.
"""
