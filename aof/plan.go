package aof

import (
	"fmt"
	"os"

	"github.com/celerity/celerity/aof/vfs"
)

// PlanFile is one file of a LoadPlan.
type PlanFile struct {
	Name string
	Seq  int64
	Type FileType
	Size int64
}

// Truncation tells what a load cut from the end of the last file (it is
// applied by Start).
type Truncation struct {
	File   string
	Offset int64 // the file is cut to this size
	Size   int64 // its size before
	Kind   DamageKind
	// Dropped counts complete commands that were not applied: those of an
	// unterminated MULTI block, MULTI included.
	Dropped int64
	Msg     string
}

// LoadPlan replays an AOF: the commands of the base, then of each incr file,
// in order. It is a one-shot iterator:
//
//	for plan.Next() { apply(plan.Command().Argv) }
//	if err := plan.Err(); err != nil { refuse to start }
//
// Commands are argv: SELECT is one of them, and tracking the current
// database is the caller's job, as it is MULTI/EXEC's meaning (a
// transaction is only yielded once its EXEC has been read). A LoadPlan only
// reads; Start applies the Truncation it may report.
type LoadPlan struct {
	a        *AOF
	files    []PlanFile
	i        int
	f        vfs.File
	fr       *FileReader
	cur      Command
	err      error
	trunc    *Truncation
	done     bool
	reports  []FileReport
	commands int64
}

// Files lists the files the plan replays, in order.
func (p *LoadPlan) Files() []PlanFile { return p.files }

// Next advances to the next command to apply.
func (p *LoadPlan) Next() bool {
	for !p.done {
		if p.fr == nil {
			if p.i == len(p.files) {
				p.done = true
				break
			}
			pf := p.files[p.i]
			f, err := p.a.fs.OpenFile(p.a.path(pf.Name), os.O_RDONLY, 0)
			if err != nil {
				p.fail(fmt.Errorf("aof: opening %s: %w", pf.Name, err))
				break
			}
			p.f = f
			p.fr = NewFileReader(f, pf.Name, pf.Size)
		}
		if p.fr.Next() {
			p.cur = p.fr.Command()
			p.commands++
			return true
		}
		p.endFile()
	}
	return false
}

// Command returns the current command.
func (p *LoadPlan) Command() Command { return p.cur }

// Err returns why the plan stopped early: a *CorruptError, a
// *TruncatedError or an I/O error. The caller must
// then refuse to start.
func (p *LoadPlan) Err() error { return p.err }

// Truncation reports the torn tail that Start will cut, or nil.
func (p *LoadPlan) Truncation() *Truncation { return p.trunc }

// Reports returns the reports of the files read so far.
func (p *LoadPlan) Reports() []FileReport { return p.reports }

// Close releases the open file of an abandoned plan.
func (p *LoadPlan) Close() error {
	if p.f != nil {
		err := p.f.Close()
		p.f, p.fr = nil, nil
		return err
	}
	return nil
}

func (p *LoadPlan) fail(err error) {
	p.err = err
	p.done = true
	_ = p.Close()
}

// endFile applies Redis's rules to how a file ended: a torn tail may be
// truncated only in the last file and only with aof-load-truncated;
// corruption is always fatal.
func (p *LoadPlan) endFile() {
	rep := p.fr.Report()
	_ = p.Close()
	p.reports = append(p.reports, rep)
	pf := p.files[p.i]
	last := p.i == len(p.files)-1
	p.i++
	log := p.a.opts.logf
	switch d := rep.Damage; {
	case rep.Err != nil:
		p.fail(fmt.Errorf("aof: reading %s: %w", pf.Name, rep.Err))
	case d == nil:
	case d.Kind == DamageCorrupt:
		p.fail(&CorruptError{File: pf.Name, Offset: rep.ValidEnd, At: d.At, Msg: d.Msg})
	case d.Kind == DamageAnnotation && !last:
		// Nothing follows in this file: harmless.
	case d.Kind == DamageAnnotation:
		p.trunc = &Truncation{File: pf.Name, Offset: rep.ValidEnd, Size: rep.Size, Kind: d.Kind, Msg: d.Msg}
	case !last:
		p.fail(&TruncatedError{File: pf.Name, Offset: rep.ValidEnd, Size: rep.Size, Kind: d.Kind, NotLast: true})
	case p.a.opts.RefuseTruncated:
		log(LevelWarning, "Unexpected end of file reading the append only file %s. You can: 1) Make a backup of your AOF file, "+
			"then use ./celerity-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' "+
			"configuration option to yes and restart the server.", pf.Name)
		p.fail(&TruncatedError{File: pf.Name, Offset: rep.ValidEnd, Size: rep.Size, Kind: d.Kind})
	default:
		if d.Kind == DamageMulti {
			log(LevelWarning, "Revert incomplete MULTI/EXEC transaction in AOF file %s", pf.Name)
		}
		log(LevelWarning, "!!! Warning: short read while loading the AOF file %s!!!", pf.Name)
		log(LevelWarning, "!!! Truncating the AOF %s at offset %d !!!", pf.Name, rep.ValidEnd)
		log(LevelWarning, "AOF %s loaded anyway because aof-load-truncated is enabled", pf.Name)
		p.trunc = &Truncation{File: pf.Name, Offset: rep.ValidEnd, Size: rep.Size, Kind: d.Kind,
			Dropped: rep.Dropped, Msg: d.Msg}
	}
}
