"""One page of the main window per module: start, prepare, train, dub."""
