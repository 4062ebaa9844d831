from revops_warehouse.cli import main

raise SystemExit(main())
