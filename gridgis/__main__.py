from gridgis.cli import main

main()
