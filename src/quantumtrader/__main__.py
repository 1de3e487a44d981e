"""``python -m quantumtrader`` runs the command-line interface."""

from quantumtrader.cli.app import main

if __name__ == "__main__":
    main()
