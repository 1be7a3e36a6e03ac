from services.sender.main import main

main()
