package publicapi

import (
	"go/token"
	"go/types"
)

// apiWalk follows the types one package's exported API lets another module
// reach, and records each internal type on the way.
type apiWalk struct {
	fset    *token.FileSet
	pkg     *types.Package
	visited map[*types.Named]bool // unexported named types already walked
	seen    map[Leak]bool         // by Pos and Type: a mention reached twice is one leak
	leaks   []Leak
}

func packageLeaks(fset *token.FileSet, pkg *types.Package) []Leak {
	w := &apiWalk{fset: fset, pkg: pkg, visited: map[*types.Named]bool{}, seen: map[Leak]bool{}}
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		api := pkg.Name() + "." + name
		if tn, ok := obj.(*types.TypeName); ok && !tn.IsAlias() {
			if named, ok := tn.Type().(*types.Named); ok {
				w.members(api, obj.Pos(), named)
				continue
			}
		}
		w.typ(api, obj.Pos(), obj.Type())
	}
	return w.leaks
}

// members walks what a named type of the package exposes: its type
// parameters' constraints, the exported methods of T and *T (promoted ones
// included, walked first so they are named as the outer type's), and its
// exported fields or interface methods.
func (w *apiWalk) members(api string, pos token.Pos, named *types.Named) {
	for i := 0; i < named.TypeParams().Len(); i++ {
		w.typ(api, pos, named.TypeParams().At(i).Constraint())
	}
	if _, isInterface := named.Underlying().(*types.Interface); !isInterface {
		methods := types.NewMethodSet(types.NewPointer(named))
		for i := 0; i < methods.Len(); i++ {
			m := methods.At(i).Obj()
			if m.Exported() {
				w.typ(api+"."+m.Name(), m.Pos(), m.Type())
			}
		}
	}
	w.underlying(api, pos, named.Underlying())
}

// underlying walks a struct's exported and embedded fields (an embedded
// field promotes its members even when its own name is unexported) and an
// interface's methods and embedded types; any other type whole.
func (w *apiWalk) underlying(api string, pos token.Pos, t types.Type) {
	switch u := t.(type) {
	case *types.Struct:
		for i := 0; i < u.NumFields(); i++ {
			f := u.Field(i)
			if f.Exported() || f.Embedded() {
				w.typ(api+"."+f.Name(), f.Pos(), f.Type())
			}
		}
	case *types.Interface:
		for i := 0; i < u.NumMethods(); i++ {
			m := u.Method(i)
			if m.Exported() {
				w.typ(api+"."+m.Name(), m.Pos(), m.Type())
			}
		}
		for i := 0; i < u.NumEmbeddeds(); i++ {
			w.typ(api, pos, u.EmbeddedType(i))
		}
	default:
		w.typ(api, pos, t)
	}
}

// typ records t if it is internal and walks into what it is made of. A
// named type of another public package is that package's own API and is
// not walked; an unexported one of this package is, as its exported fields
// and methods are reached through this API.
func (w *apiWalk) typ(api string, pos token.Pos, t types.Type) {
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		obj := t.Obj()
		if obj.Pkg() != nil && isInternal(obj.Pkg().Path()) {
			w.leak(api, pos, obj.Pkg().Path()+"."+obj.Name())
			return
		}
		for i := 0; i < t.TypeArgs().Len(); i++ {
			w.typ(api, pos, t.TypeArgs().At(i))
		}
		if obj.Pkg() == w.pkg && !obj.Exported() && !w.visited[t.Origin()] {
			w.visited[t.Origin()] = true
			w.members(api, pos, t.Origin())
		}
	case *types.Pointer:
		w.typ(api, pos, t.Elem())
	case *types.Slice:
		w.typ(api, pos, t.Elem())
	case *types.Array:
		w.typ(api, pos, t.Elem())
	case *types.Chan:
		w.typ(api, pos, t.Elem())
	case *types.Map:
		w.typ(api, pos, t.Key())
		w.typ(api, pos, t.Elem())
	case *types.Signature:
		for i := 0; i < t.TypeParams().Len(); i++ {
			w.typ(api, pos, t.TypeParams().At(i).Constraint())
		}
		w.typ(api, pos, t.Params())
		w.typ(api, pos, t.Results())
	case *types.Tuple:
		for i := 0; i < t.Len(); i++ {
			w.typ(api, pos, t.At(i).Type())
		}
	case *types.Union:
		for i := 0; i < t.Len(); i++ {
			w.typ(api, pos, t.Term(i).Type())
		}
	case *types.Struct, *types.Interface:
		w.underlying(api, pos, t)
	}
}

func (w *apiWalk) leak(api string, pos token.Pos, typeName string) {
	key := Leak{Pos: w.fset.Position(pos), Type: typeName}
	if w.seen[key] {
		return // a promoted method, reached again through its embedded type
	}
	w.seen[key] = true
	w.leaks = append(w.leaks, Leak{Pos: key.Pos, API: api, Type: typeName})
}
