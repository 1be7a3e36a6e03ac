from services.ai.main import main

main()
