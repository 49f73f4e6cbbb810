from lambdamaker.cli import main

main()
