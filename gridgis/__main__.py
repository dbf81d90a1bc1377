from gridgis.cli import main

if __name__ == "__main__":  # analysis workers import this module again: do not rerun
    main()
