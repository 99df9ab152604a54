package dev.jhot.helper;

import dev.jhot.agent.Failure;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.eclipse.jdt.core.compiler.CategorizedProblem;
import org.eclipse.jdt.core.compiler.CharOperation;
import org.eclipse.jdt.internal.compiler.ClassFile;
import org.eclipse.jdt.internal.compiler.CompilationResult;
import org.eclipse.jdt.internal.compiler.Compiler;
import org.eclipse.jdt.internal.compiler.DefaultErrorHandlingPolicies;
import org.eclipse.jdt.internal.compiler.batch.CompilationUnit;
import org.eclipse.jdt.internal.compiler.classfmt.ClassFileReader;
import org.eclipse.jdt.internal.compiler.classfmt.ClassFormatException;
import org.eclipse.jdt.internal.compiler.env.ICompilationUnit;
import org.eclipse.jdt.internal.compiler.env.INameEnvironment;
import org.eclipse.jdt.internal.compiler.env.NameEnvironmentAnswer;
import org.eclipse.jdt.internal.compiler.impl.CompilerOptions;
import org.eclipse.jdt.internal.compiler.problem.DefaultProblemFactory;

/**
 * `compile` with ECJ: runs on a JRE. Types resolve one at a time through the bridge, as Tomcat's
 * JDTCompiler resolves them through a class loader, so no package ever has to be listed; a
 * package is any name that is not a class the loader serves.
 */
final class Ecj {
    private Ecj() {
    }

    static void run(Args a, Bridge bridge, Map<String, Object> out, List<byte[]> blobs) throws Failure {
        int release = a.integer("release", 8, 99);
        Map<String, byte[]> files = a.named("sources", "path");
        Map<String, ICompilationUnit> units = new LinkedHashMap<>();
        Map<String, ICompilationUnit> byType = new HashMap<>();
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            CompilationUnit u = new CompilationUnit(new String(e.getValue(), StandardCharsets.UTF_8).toCharArray(), e.getKey(), "UTF-8");
            units.put(e.getKey(), u);
            String pkg = Javac.packageOf(e.getValue());
            String simple = Javac.simpleName(e.getKey());
            byType.put(pkg.isEmpty() ? simple : pkg + "." + simple, u);
        }

        String level = release <= 8 ? "1." + release : Integer.toString(release);
        Map<String, String> settings = new HashMap<>();
        settings.put(CompilerOptions.OPTION_Source, level);
        settings.put(CompilerOptions.OPTION_TargetPlatform, level);
        settings.put(CompilerOptions.OPTION_Compliance, level);
        settings.put(CompilerOptions.OPTION_LineNumberAttribute, CompilerOptions.GENERATE);
        settings.put(CompilerOptions.OPTION_SourceFileAttribute, CompilerOptions.GENERATE);
        settings.put(CompilerOptions.OPTION_LocalVariableAttribute, CompilerOptions.GENERATE);
        settings.put(CompilerOptions.OPTION_PreserveUnusedLocal, CompilerOptions.PRESERVE);
        settings.put(CompilerOptions.OPTION_Encoding, "UTF-8");
        settings.put(CompilerOptions.OPTION_ReportDeprecation, CompilerOptions.IGNORE);

        List<Object> diagnostics = new ArrayList<>();
        List<Object> classes = new ArrayList<>();
        boolean[] failed = {false};
        INameEnvironment env = new INameEnvironment() {
            @Override
            public NameEnvironmentAnswer findType(char[][] compoundName) {
                return find(CharOperation.toString(compoundName));
            }

            @Override
            public NameEnvironmentAnswer findType(char[] typeName, char[][] packageName) {
                String pkg = CharOperation.toString(packageName);
                return find(pkg.isEmpty() ? new String(typeName) : pkg + "." + new String(typeName));
            }

            private NameEnvironmentAnswer find(String name) {
                ICompilationUnit u = byType.get(name);
                if (u != null) return new NameEnvironmentAnswer(u, null);
                byte[] b = bridge.classFile(name);
                if (b == null) return null;
                try {
                    return new NameEnvironmentAnswer(new ClassFileReader(b, name.replace('.', '/').toCharArray(), true), null);
                } catch (ClassFormatException e) {
                    return null;
                }
            }

            @Override
            public boolean isPackage(char[][] parentPackageName, char[] packageName) {
                String parent = parentPackageName == null ? "" : CharOperation.toString(parentPackageName);
                String name = parent.isEmpty() ? new String(packageName) : parent + "." + new String(packageName);
                // A name starting with an upper-case letter is, by convention, a type: asking the
                // loader for it would be a round trip that finds a class anyway.
                if (Character.isUpperCase(packageName.length > 0 ? packageName[0] : 'a')) return false;
                return !byType.containsKey(name) && bridge.classFile(name) == null;
            }

            @Override
            public void cleanup() {
            }
        };

        Compiler compiler = new Compiler(env, DefaultErrorHandlingPolicies.proceedWithAllProblems(), new CompilerOptions(settings), result -> {
            for (CategorizedProblem p : problems(result)) {
                if (!p.isError() && !p.isWarning()) continue;
                if (p.isError()) failed[0] = true;
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("file", new String(p.getOriginatingFileName()));
                d.put("line", (long) p.getSourceLineNumber());
                d.put("column", (long) column(files.get(new String(p.getOriginatingFileName())), p.getSourceStart()));
                d.put("severity", p.isError() ? "error" : "warning");
                d.put("message", p.getMessage());
                diagnostics.add(d);
            }
            for (ClassFile cf : result.getClassFiles()) {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("name", new String(cf.fileName()).replace('/', '.'));
                c.put("blob", (long) blobs.size());
                blobs.add(cf.getBytes());
                classes.add(c);
            }
        }, new DefaultProblemFactory(Locale.ENGLISH));
        compiler.compile(units.values().toArray(new ICompilationUnit[0]));
        if (failed[0]) {
            classes.clear();
            blobs.clear();
        }
        out.put("compiler", "ecj");
        out.put("success", !failed[0]);
        out.put("classes", classes);
        out.put("diagnostics", diagnostics);
    }

    private static CategorizedProblem[] problems(CompilationResult r) {
        CategorizedProblem[] p = r.getAllProblems();
        return p == null ? new CategorizedProblem[0] : p;
    }

    /** 1-based column of a character offset in a UTF-8 source. */
    static int column(byte[] source, int offset) {
        if (source == null || offset < 0) return 0;
        String s = new String(source, StandardCharsets.UTF_8);
        int col = 1;
        for (int i = Math.min(offset, s.length()) - 1; i >= 0 && s.charAt(i) != '\n'; i--) col++;
        return col;
    }
}
