"""The fitted model: its state, ranking, fold-in and training loss."""
