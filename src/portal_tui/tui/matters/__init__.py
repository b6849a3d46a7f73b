"""The main screen: the Matters list, Activities and Setup beside it."""
