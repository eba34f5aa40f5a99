from mobcost.cli import main

main()
