from asvbench.cli.main import main

main()
