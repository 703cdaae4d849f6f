from equidata.cli import main

main()
