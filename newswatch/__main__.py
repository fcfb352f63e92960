from newswatch.cli import main

# Guarded: the extraction pool's workers import the main module again.
if __name__ == "__main__":
    main()
