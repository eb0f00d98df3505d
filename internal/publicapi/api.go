package publicapi

import (
	"go/ast"
	"go/token"
)

// fileScan walks the exported declarations of one file. It reads syntax
// only, so it sees what the declarations spell out: a variable whose type is
// inferred from a function call is not followed.
type fileScan struct {
	fset    *token.FileSet
	pkg     string
	imports map[string]string // local name → internal import path
	leaks   []Leak
}

func fileLeaks(fset *token.FileSet, file *ast.File) []Leak {
	s := &fileScan{fset: fset, pkg: file.Name.Name, imports: internalImports(file)}
	if len(s.imports) == 0 {
		return nil
	}
	for _, decl := range file.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			s.funcDecl(d)
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				s.spec(spec)
			}
		}
	}
	return s.leaks
}

func (s *fileScan) funcDecl(d *ast.FuncDecl) {
	if !d.Name.IsExported() {
		return
	}
	api := s.pkg + "." + d.Name.Name
	if d.Recv != nil && len(d.Recv.List) == 1 {
		recv := receiverName(d.Recv.List[0].Type)
		if !ast.IsExported(recv) {
			return // a method of an unexported type is reached only through an interface, checked there
		}
		api = s.pkg + "." + recv + "." + d.Name.Name
	}
	s.typeExpr(api, d.Name.Pos(), d.Type)
}

// receiverName is the type name of a receiver: T, *T, T[K] or *T[K].
func receiverName(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.ParenExpr:
			e = t.X
		case *ast.Ident:
			return t.Name
		default:
			return ""
		}
	}
}

func (s *fileScan) spec(spec ast.Spec) {
	switch sp := spec.(type) {
	case *ast.TypeSpec:
		if !sp.Name.IsExported() {
			return
		}
		api := s.pkg + "." + sp.Name.Name
		if sp.TypeParams != nil {
			s.typeExpr(api, sp.Name.Pos(), sp.TypeParams)
		}
		s.typeExpr(api, sp.Name.Pos(), sp.Type)
	case *ast.ValueSpec:
		for i, name := range sp.Names {
			if !name.IsExported() {
				continue
			}
			api := s.pkg + "." + name.Name
			if sp.Type != nil {
				s.typeExpr(api, name.Pos(), sp.Type)
			} else if i < len(sp.Values) {
				s.literalType(api, name.Pos(), sp.Values[i])
			}
		}
	}
}

// literalType checks the spelled-out type of a composite literal value
// (T{…} or &T{…}), the one inferred type the syntax shows.
func (s *fileScan) literalType(api string, pos token.Pos, value ast.Expr) {
	if u, ok := value.(*ast.UnaryExpr); ok && u.Op == token.AND {
		value = u.X
	}
	if lit, ok := value.(*ast.CompositeLit); ok && lit.Type != nil {
		s.typeExpr(api, pos, lit.Type)
	}
}

// typeExpr records every internal type that e mentions where another module
// would see it: unexported struct fields and unexported interface methods
// are not part of the API and are skipped.
func (s *fileScan) typeExpr(api string, pos token.Pos, e ast.Node) {
	ast.Inspect(e, func(n ast.Node) bool {
		switch t := n.(type) {
		case *ast.StructType:
			s.fields(api, t.Fields)
			return false
		case *ast.InterfaceType:
			s.fields(api, t.Methods)
			return false
		case *ast.SelectorExpr:
			s.selector(api, pos, t)
			return false
		}
		return true
	})
}

// fields checks the exported members of a struct or interface: named ones
// whose name is exported, and embedded ones (an embedded internal type is
// exported under its own name and promotes its members).
func (s *fileScan) fields(api string, list *ast.FieldList) {
	for _, f := range list.List {
		if len(f.Names) == 0 {
			s.typeExpr(api, f.Type.Pos(), f.Type)
			continue
		}
		for _, name := range f.Names {
			if name.IsExported() {
				s.typeExpr(api+"."+name.Name, name.Pos(), f.Type)
			}
		}
	}
}

func (s *fileScan) selector(api string, pos token.Pos, sel *ast.SelectorExpr) {
	id, ok := sel.X.(*ast.Ident)
	if !ok {
		return
	}
	if importPath, ok := s.imports[id.Name]; ok {
		s.leaks = append(s.leaks, Leak{Pos: s.fset.Position(pos), API: api, Type: importPath + "." + sel.Sel.Name})
	}
}
