"""The console's alert views: the problems list, badges on the tree, the tray icon."""
