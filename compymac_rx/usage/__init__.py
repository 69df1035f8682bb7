"""The admin usage dashboard: aggregate queries over turns, tokens and stored messages."""
